//! `heap summary --report`: the summary as one offline HTML page in the run report's style,
//! with a browsable dominator tree.
//!
//! The tree is embedded as compact JSON (the kept part only: [`DomTree`] is cut by a node
//! budget and a retained-size floor, so the page stays around a megabyte for any snapshot)
//! and drawn lazily: a node's children become DOM elements when it is expanded, so the page
//! opens at once where DevTools freezes on the same file. `#expand=ID,ID` in the URL expands
//! those nodes (and their ancestors) on load, for links and for tests.
//!
//! Everything from the snapshot is untrusted (class names and property names are program
//! data): the HTML parts are escaped, the JSON has every `<` written as `\u003c`, and the
//! script only ever sets `textContent`.

use std::io;

use leakhound_heap::domtree::DomTree;
use leakhound_heap::Summary;
use serde::Serialize;

use super::{Html, Render};
use crate::escape::html as esc;
use crate::format::bytes_u64 as bytes;

/// The page's document: the summary, the kept dominator tree, and the file it came from.
#[derive(Debug, Clone, Copy)]
pub struct HeapPage<'a> {
    pub summary: &'a Summary,
    pub tree: &'a DomTree,
    pub file: &'a str,
}

const CSS: &str = r#"
.tree,.tree ul{list-style:none;margin:0;padding-left:18px}
.tree{padding-left:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.tree li{padding:1px 0}
.tree .tog{border:0;background:none;cursor:pointer;width:18px;padding:0;font:inherit;color:var(--muted)}
.tree .cls{font-weight:600;overflow-wrap:anywhere}
.tree .id,.tree .self,.tree .more,.tree .path{color:var(--muted);font-size:12.5px}
.tree .num{font-variant-numeric:tabular-nums;margin-left:8px}
.tree .pct{display:inline-block;width:56px;text-align:right;font-variant-numeric:tabular-nums;color:var(--muted);font-size:12.5px}
.tree .path{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0 0 2px 22px;overflow-wrap:anywhere}
.tree .more{font-style:italic;padding-left:22px}
.muted,.note{color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
"#;

const SCRIPT: &str = r#"
(function(){
var d=JSON.parse(document.getElementById('domtree').textContent);
var C=d.c,N=d.n,T=d.t||1,P=[];
N.forEach(function(n,i){n[5].forEach(function(c){P[c]=i;});});
function fmt(b){var u=['B','KiB','MiB','GiB','TiB'],i=0;while(b>=1024&&i<4){b/=1024;i++;}return (i?b.toFixed(1):String(b))+' '+u[i];}
function span(cls,text){var s=document.createElement('span');s.className=cls;s.textContent=text;return s;}
function row(i){
 var n=N[i],li=document.createElement('li');li.id='n'+n[1];li.setAttribute('data-i',i);
 var open=n[5].length>0||n[6]>0,b=document.createElement('button');
 b.type='button';b.className='tog';b.textContent=open?'\u25b8':'\u00b7';
 b.setAttribute('aria-expanded','false');if(open)b.onclick=function(){toggle(li);};else b.disabled=true;
 li.appendChild(b);li.appendChild(span('pct',(100*n[3]/T).toFixed(1)+'%'));li.appendChild(document.createTextNode(' '));
 li.appendChild(span('cls',C[n[0]]));li.appendChild(document.createTextNode(' '));li.appendChild(span('id','@'+n[1]));
 li.appendChild(span('num',fmt(n[3])));li.appendChild(span('self',' (self '+fmt(n[2])+')'));
 return li;
}
function expand(li){
 if(li.classList.contains('open'))return;
 var n=N[+li.getAttribute('data-i')];li.classList.add('open');
 var b=li.querySelector('.tog');b.textContent='\u25be';b.setAttribute('aria-expanded','true');
 var p=document.createElement('div');p.className='path';p.textContent='path: '+(n[4]||'(root)');li.appendChild(p);
 var ul=document.createElement('ul');n[5].forEach(function(c){ul.appendChild(row(c));});
 if(n[6]>0){var m=document.createElement('li');m.className='more';m.textContent=n[6]+' smaller '+(n[6]==1?'child':'children')+' not shown, '+fmt(n[7])+' together';ul.appendChild(m);}
 li.appendChild(ul);
}
function toggle(li){
 if(!li.classList.contains('open')){expand(li);return;}
 li.classList.remove('open');var b=li.querySelector('.tog');b.textContent='\u25b8';b.setAttribute('aria-expanded','false');
 li.querySelectorAll(':scope>ul,:scope>.path').forEach(function(e){e.remove();});
}
var top=document.getElementById('tree');
N[0][5].forEach(function(c){top.appendChild(row(c));});
if(N[0][6]>0){var m=document.createElement('li');m.className='more';m.textContent=N[0][6]+' smaller objects under the root not shown, '+fmt(N[0][7])+' together';top.appendChild(m);}
function byId(id){for(var i=0;i<N.length;i++)if(String(N[i][1])===id)return i;return -1;}
function fromHash(){
 var h=/expand=([0-9,]+)/.exec(location.hash),last=null;
 if(h)h[1].split(',').forEach(function(id){
  var i=byId(id),chain=[];while(i>0){chain.unshift(i);i=P[i];}
  chain.forEach(function(j){var el=document.querySelector('li[data-i="'+j+'"]');if(el){expand(el);last=el;}});
 });
 if(last&&last.scrollIntoView)last.scrollIntoView({block:'center'});
}
fromHash();window.addEventListener('hashchange',fromHash);
document.body.setAttribute('data-tree','ready');
})();
"#;

/// The tree as the script reads it: class names once, nodes as
/// `[class, id, self, retained, path, children, more_count, more_bytes]`.
type CompactNode<'a> = (u32, u64, u64, u64, &'a str, &'a [u32], u64, u64);

#[derive(Serialize)]
struct Compact<'a> {
    c: Vec<&'a str>,
    n: Vec<CompactNode<'a>>,
    t: u64,
}

fn compact_json(tree: &DomTree) -> String {
    let mut classes: Vec<&str> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let n = tree
        .nodes
        .iter()
        .map(|x| {
            let c = *index.entry(x.class.as_str()).or_insert_with(|| {
                classes.push(x.class.as_str());
                classes.len() as u32 - 1
            });
            (
                c,
                x.node_id,
                x.self_bytes,
                x.retained_bytes,
                x.path.as_str(),
                x.children.as_slice(),
                x.more_count,
                x.more_bytes,
            )
        })
        .collect();
    let json = serde_json::to_string(&Compact {
        c: classes,
        n,
        t: tree.total_bytes,
    })
    .unwrap_or_else(|_| "{\"c\":[],\"n\":[],\"t\":0}".to_string());
    // `<` only occurs inside JSON strings, where `\u003c` means the same: no `</script>`.
    json.replace('<', "\\u003c")
}

fn class_table(o: &mut String, title: &str, rows: &[leakhound_heap::summary::ClassRow]) {
    o.push_str(&format!("<h2>{}</h2>", esc(title)));
    if rows.is_empty() {
        o.push_str("<p class=\"empty\">no classes</p>");
        return;
    }
    o.push_str(
        "<table><tr><th>class</th><th class=\"num\">count</th><th class=\"num\">self</th>\
         <th class=\"num\">retained</th></tr>",
    );
    for r in rows {
        o.push_str(&format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&r.class),
            r.count,
            bytes(r.self_bytes),
            bytes(r.retained_bytes)
        ));
    }
    o.push_str("</table>");
}

impl Render<HeapPage<'_>> for Html {
    fn render(&self, p: &HeapPage<'_>, out: &mut dyn io::Write) -> io::Result<()> {
        let s = p.summary;
        let mut o = String::with_capacity(256 * 1024);
        o.push_str(&format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>leakhound heap: {}</title><style>{}{CSS}</style></head><body><main>",
            esc(p.file),
            crate::html::CSS
        ));
        o.push_str(&format!(
            "<header><h1>leakhound heap summary</h1><div class=\"cmd\">{}</div></header>",
            esc(p.file)
        ));
        o.push_str("<h2>Totals</h2><div class=\"grid\">");
        for (v, label) in [
            (bytes(s.total_bytes), "retained by the root"),
            (s.node_count.to_string(), "objects"),
            (s.edge_count.to_string(), "references"),
            (s.class_count.to_string(), "classes"),
        ] {
            o.push_str(&format!(
                "<div class=\"stat\"><b>{}</b><span>{}</span></div>",
                esc(&v),
                esc(label)
            ));
        }
        o.push_str("</div><h2>Leak suspects</h2>");
        if s.suspects.is_empty() {
            o.push_str("<p class=\"empty\">none: no object or class retains 10% of the heap</p>");
        }
        for sp in &s.suspects {
            o.push_str(&format!(
                "<div class=\"suspect\"><b>{}</b> <span class=\"muted\">{} · {:.1}%</span><p>{}</p>",
                esc(&sp.class),
                bytes(sp.retained_bytes),
                sp.percent,
                esc(&sp.sentence)
            ));
            if let Some(a) = &sp.accumulation_point {
                o.push_str(&format!(
                    "<p><a href=\"#expand={}\">show @{} in the dominator tree</a></p><ol>",
                    a.node_id, a.node_id
                ));
                for st in &a.path_steps {
                    o.push_str(&format!(
                        "<li>{} → {} @{}</li>",
                        esc(&st.edge),
                        esc(&st.class),
                        st.node_id
                    ));
                }
                o.push_str("</ol>");
            }
            o.push_str("</div>");
        }
        class_table(
            &mut o,
            "Biggest classes by retained size",
            &s.top_by_retained,
        );
        class_table(&mut o, "Biggest classes by self size", &s.top_by_self);
        super::heap_inspect::html(&mut o, s);
        o.push_str(&format!(
            "<h2>Dominator tree</h2><p class=\"note\">Each object with the objects only it keeps \
             alive, biggest first; expand one to see its children and its retainer path. The {} \
             biggest objects are here; objects retaining under {} are summed.</p>\
             <noscript><p class=\"empty\">The tree needs JavaScript.</p></noscript>\
             <ul class=\"tree\" id=\"tree\"></ul>",
            p.tree.nodes.len(),
            bytes(p.tree.floor_bytes)
        ));
        o.push_str("<script type=\"application/json\" id=\"domtree\">");
        o.push_str(&compact_json(p.tree));
        o.push_str("</script><script>");
        o.push_str(SCRIPT);
        o.push_str(&format!(
            "</script><footer>Generated by leakhound {} from a <code>{}</code> result. \
             Retained sizes and paths follow Chrome DevTools' rules.</footer></main></body></html>",
            env!("CARGO_PKG_VERSION"),
            esc(&s.schema)
        ));
        out.write_all(o.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_heap::domtree::DomNode;

    fn node(class: &str, id: u64, retained: u64, children: Vec<u32>) -> DomNode {
        DomNode {
            class: class.into(),
            node_id: id,
            self_bytes: 8,
            retained_bytes: retained,
            path: format!("(GC roots) > x ({class})"),
            children,
            more_count: 0,
            more_bytes: 0,
            ordinal: 0,
        }
    }

    #[test]
    fn untrusted_names_cannot_close_the_script_or_inject_markup() {
        let evil = "</script><img src=x onerror=alert(1)>";
        let tree = DomTree {
            total_bytes: 100,
            floor_bytes: 1,
            nodes: vec![node("(root)", 1, 100, vec![1]), node(evil, 3, 60, vec![])],
        };
        let summary = Summary {
            schema: "leakhound.heap.summary/v1".into(),
            total_bytes: 100,
            node_count: 2,
            edge_count: 1,
            class_count: 1,
            top_by_retained: vec![leakhound_heap::summary::ClassRow {
                class: evil.into(),
                count: 1,
                self_bytes: 8,
                retained_bytes: 60,
            }],
            top_by_self: vec![],
            suspects: vec![],
            duplicated_strings: None,
            listeners: vec![],
        };
        let page = super::super::to_string(
            &Html,
            &HeapPage {
                summary: &summary,
                tree: &tree,
                file: "<b>.heapsnapshot",
            },
        );
        assert!(!page.contains("<img"), "markup got through");
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(page.contains("\\u003c/script>\\u003cimg"));
        assert!(page.contains("&lt;b&gt;.heapsnapshot"));
        // The compact tree: class table once, children as indices.
        let json = compact_json(&tree);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["n"][0][5], serde_json::json!([1]));
        assert_eq!(v["c"][1].as_str(), Some(evil));
    }
}

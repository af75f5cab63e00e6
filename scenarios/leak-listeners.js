// Leak: every request adds a listener to a long-lived emitter and never removes it.
const { EventEmitter } = require('events');
const serve = require('./_serve');
const bus = new EventEmitter();
bus.setMaxListeners(0);
serve('leak-listeners', (req, seq) => {
  const ctx = { seq, url: req.url, started: Date.now() };
  bus.on('config-changed', () => ctx.started);
  return bus.listenerCount('config-changed');
});

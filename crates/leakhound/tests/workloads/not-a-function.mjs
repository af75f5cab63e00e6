// A --workload test module whose default export is not a function.
export default { run() {} };

// Preloaded (`node --require bench/rss-probe.cjs …`) into a process the bench measures: at its exit, writes the
// process's peak resident set in KiB (getrusage's maxrss: all its threads, worker threads included) to the file named
// by TWOKEY_BENCH_RSS_FILE. Worker threads inherit the preload and write nothing.
const { isMainThread } = require('node:worker_threads');

const file = process.env.TWOKEY_BENCH_RSS_FILE;
if (isMainThread && file) {
  process.on('exit', () => {
    require('node:fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}

// Preloaded (`node -r`) into a process the bench measures: samples its resident set size every
// 100 ms and, at exit, writes one line `B3_BENCH_RSS {"peakMb", "samplesMb"}` to stderr, so the
// bench reads the peak RSS of a child process and how it moved over the run (flat or growing).
"use strict";
const samples = [];
const sample = () => samples.push(process.memoryUsage.rss());
const timer = setInterval(sample, 100);
timer.unref();
process.on("exit", () => {
  sample();
  const mb = (b) => Math.round(b / 1048576);
  const peak = Math.max(process.resourceUsage().maxRSS * 1024, ...samples);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS preload
  require("node:fs").writeSync(
    2,
    `\nB3_BENCH_RSS ${JSON.stringify({ peakMb: mb(peak), samplesMb: samples.map(mb) })}\n`,
  );
});

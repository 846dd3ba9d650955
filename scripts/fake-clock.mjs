// Moves the clock of a Node process by SHAKE_FAKE_CLOCK_OFFSET_MS (loaded with `node --import`): Date.now()
// and `new Date()` read the shifted time; everything else (timers, performance.now, OpenSSL) is untouched.
// The test runner sets it for `SHAKE_TEST_CLOCK=+1y` etc., to prove that no test depends on today's date.
// redis-server keeps the real clock (faketime's LD_PRELOAD would reach it too, and Debian's jemalloc build
// recurses under it), so tests judge expiries against the Node side's clock.
const offset = Number(process.env.SHAKE_FAKE_CLOCK_OFFSET_MS ?? 0);
if (offset !== 0) {
  const RealDate = globalThis.Date;
  const realNow = RealDate.now.bind(RealDate);
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + offset);
      else super(...args);
    }
    static now() {
      return realNow() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
}

import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Trace from "../src/Trace.js"

describe("Trace (B3_TRACE)", () => {
  it("is on for any value but empty, 0 or false", () => {
    assert.isFalse(Trace.enabled({}))
    for (const off of ["", "0", "false", "FALSE"]) assert.isFalse(Trace.enabled({ B3_TRACE: off }), off)
    for (const on of ["1", "true", "yes"]) assert.isTrue(Trace.enabled({ B3_TRACE: on }), on)
  })

  it.live("prints each span as it ends: duration, depth, attributes (no headers or URLs), failures", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const inner = Effect.sleep("5 millis").pipe(
        Effect.withSpan("inner", {
          attributes: {
            refDate: "2025-01-02",
            "http.request.header.accept": "x",
            "url.full": "http://x",
            long: "y".repeat(80)
          }
        })
      )
      const failing = Effect.fail("no").pipe(Effect.withSpan("failing"))
      yield* Effect.all([inner, Effect.ignore(failing)]).pipe(
        Effect.withSpan("outer"),
        Effect.withTracer(Trace.printing((line) => lines.push(line)))
      )
      assert.strictEqual(lines.length, 3)
      const [first, second, third] = lines
      assert.match(first ?? "", /^b3 trace +\d+\.\d ms, ended at \d+ ms {4}inner refDate=2025-01-02 long=y{57}\.\.\.$/)
      assert.notInclude(first ?? "", "header")
      assert.notInclude(first ?? "", "url.full")
      assert.isAtLeast(Number(/ ([\d.]+) ms,/.exec(first ?? "")?.[1]), 4)
      assert.match(second ?? "", / {4}failing \(failed\)$/)
      assert.match(third ?? "", / {2}outer$/)
    }))
})

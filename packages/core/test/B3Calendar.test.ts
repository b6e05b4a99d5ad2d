import { assert, describe, it } from "@effect/vitest"
import * as B3Calendar from "../src/B3Calendar.js"

describe("B3Calendar", () => {
  it("2024: B3's published holidays (11 on weekdays), 251 trading days", () => {
    const weekdays: Array<string> = []
    for (let d = Date.UTC(2024, 0, 1); d <= Date.UTC(2024, 11, 31); d += 86_400_000) {
      const date = new Date(d)
      if (date.getUTCDay() !== 0 && date.getUTCDay() !== 6) weekdays.push(date.toISOString().slice(0, 10))
    }
    const closed = weekdays.filter((d) => !B3Calendar.isTradingDay(d))
    assert.deepStrictEqual(closed, [
      "2024-01-01", // Confraternização Universal
      "2024-02-12", // Carnaval
      "2024-02-13",
      "2024-03-29", // Sexta-feira da Paixão
      "2024-05-01",
      "2024-05-30", // Corpus Christi
      "2024-11-15",
      "2024-11-20", // Consciência Negra, national from 2024
      "2024-12-24", // B3 only, not a national holiday
      "2024-12-25",
      "2024-12-31" // B3 only
    ])
    assert.strictEqual(B3Calendar.tradingDays("2024-01-01", "2024-12-31").length, 251)
  })

  it("Sao Paulo's holidays closed B3 until 2021, not from 2022 on; the year's last weekday moves to Friday", () => {
    assert.isFalse(B3Calendar.isTradingDay("2021-01-25"))
    assert.isTrue(B3Calendar.isTradingDay("2022-01-25"))
    assert.isFalse(B3Calendar.isTradingDay("2019-07-09"))
    assert.isTrue(B3Calendar.isTradingDay("2020-07-09")) // the state moved its 2020 holiday
    assert.isTrue(B3Calendar.isTradingDay("2023-11-20"))
    assert.isFalse(B3Calendar.isTradingDay("2019-11-20"))
    assert.isFalse(B3Calendar.isTradingDay("2023-12-29")) // Dec 31 2023 was a Sunday
    assert.isFalse(B3Calendar.isTradingDay("2022-12-30")) // Dec 31 2022 was a Saturday
    assert.isTrue(B3Calendar.isTradingDay("2025-03-05")) // Ash Wednesday trades (late open)
    assert.strictEqual(B3Calendar.holidayName("2025-04-18"), "Sexta-feira da Paixão")
    assert.isFalse(B3Calendar.isTradingDay("2025-10-04")) // a Saturday
  })

  it("missingTradingDays: the gaps of a history, not its weekends or holidays", () => {
    // Thu 2025-04-17, (Good Friday), (weekend), Mon 21 = Tiradentes, Tue 22, Wed 23, Thu 24
    assert.deepStrictEqual(B3Calendar.missingTradingDays(["2025-04-24", "2025-04-17", "2025-04-22"]), ["2025-04-23"])
    assert.deepStrictEqual(B3Calendar.missingTradingDays(["2025-04-17", "2025-04-22"]), [])
    assert.deepStrictEqual(B3Calendar.missingTradingDays([]), [])
    assert.isTrue(B3Calendar.covers("2030-06-01"))
    assert.isFalse(B3Calendar.covers("1999-06-01"))
  })
})

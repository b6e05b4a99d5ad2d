import * as B3Encode from "@b3-pipeline/core/B3Encode"
import type { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { generatePortfolio } from "@b3-pipeline/core/Generate"
import * as PortfolioSource from "@b3-pipeline/core/PortfolioSource"
import { suite } from "@b3-pipeline/core/testing/PortfolioSourceContract"

// The in-memory source serves fixed GetPortfolioDay pages (two pages for SMLL: pagination kept).
const day = "2025-10-03" as RefDate
const pages = new Map<string, ReadonlyArray<Uint8Array>>([
  [
    "IBOV",
    B3Encode.encodePortfolioDay(generatePortfolio({ indexCode: "IBOV" as IndexCode, refDate: day }), {
      language: "pt-br"
    })
  ],
  [
    "SMLL",
    B3Encode.encodePortfolioDay(generatePortfolio({ indexCode: "SMLL" as IndexCode, refDate: day }), {
      language: "en-us",
      pageSize: 60
    })
  ]
])

suite("memory", PortfolioSource.layerMemory(pages), {
  known: ["IBOV", "SMLL"] as Array<IndexCode>,
  unknown: "ZZZZ" as IndexCode,
  methods: ["GetPortfolioDay"]
})

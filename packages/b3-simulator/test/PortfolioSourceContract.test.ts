import * as B3HttpSource from "@b3-pipeline/core/B3HttpSource"
import type { IndexCode } from "@b3-pipeline/core/Domain"
import { suite } from "@b3-pipeline/core/testing/PortfolioSourceContract"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Sim from "../src/Simulator.js"

// core's PortfolioSource contract for B3HttpSource, over HTTP on 127.0.0.1 against the simulator:
// whole portfolios in one page (the default 9999), and in pages of 20 (pagination on every fetch).
const sourceOnSimulator = (pageSize?: number) =>
  Layer.unwrapScoped(
    Effect.map(Sim.start(), (sim) =>
      B3HttpSource.layer({
        baseUrl: sim.url,
        origin: "simulated",
        politeDelay: "0 millis",
        ...(pageSize !== undefined ? { pageSize } : {})
      }).pipe(Layer.orDie, Layer.provide(NodeHttpClient.layerUndici)))
  )

const options = { known: ["IBOV", "SMLL", "IFIX"] as Array<IndexCode>, unknown: "ZZZZ" as IndexCode }

suite("B3HttpSource on the simulator", sourceOnSimulator(), options)
suite("B3HttpSource on the simulator, pages of 20", sourceOnSimulator(20), options)

/**
 * A local B3 for tests, benchmarks and the offline demo.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"
export * as Simulator from "./Simulator.js"

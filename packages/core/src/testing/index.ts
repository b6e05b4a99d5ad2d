/**
 * The test kit of @b3-pipeline/core (`@b3-pipeline/core/testing`), for services that build on the
 * pipeline or bring an adapter of their own:
 *
 * - `Memory`: every port on its in-memory backend (`Memory.layerMemory(source)`, `Memory.runTriggers`);
 * - `Arbitraries`: fast-check arbitraries for index codes, tickers, dates, portfolios and payloads;
 * - `ObjectStoreContract.suite(name, layer)`, `CatalogContract.suite(name, layer)`,
 *   `QueryEngineContract.suite(name, layer)`, `PortfolioSourceContract.suite(name, layer, options)`:
 *   the contract every backend of a port passes, as
 *   vitest suites to run against your own layer.
 *
 * Needs the optional peer dependencies `fast-check` and `@effect/vitest` (and `vitest`).
 *
 * @since 0.1.0
 */
export * as Memory from "../Testing.js"
export * as Arbitraries from "./Arbitraries.js"
export * as CatalogContract from "./CatalogContract.js"
export * as ObjectStoreContract from "./ObjectStoreContract.js"
export * as PortfolioSourceContract from "./PortfolioSourceContract.js"
export * as QueryEngineContract from "./QueryEngineContract.js"

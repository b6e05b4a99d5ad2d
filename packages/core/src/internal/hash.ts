import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

/** Hex SHA-256 of bytes (the one implementation; public through `ObjectStore.sha256Hex`). */
export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** Hex SHA-256 of a byte stream, hashed chunk by chunk (never holds the whole stream). */
export const sha256HexOfStream = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Effect.Effect<string, E, R> =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    return Stream.runForEach(bytes, (chunk) => Effect.sync(() => void hash.update(chunk))).pipe(
      Effect.map(() => hash.digest("hex"))
    )
  })

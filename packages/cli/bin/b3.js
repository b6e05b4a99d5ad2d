#!/usr/bin/env node
// The `b3` command: loads the TypeScript sources through tsx (no build step after `npm ci`).
import { register } from "tsx/esm/api";

register();
await import("../src/bin.ts");

export default { test: { include: ["test/**/*.test.ts"], testTimeout: 60000 } }

#!/usr/bin/env bash
# Builds fuzz/corpus/{token,policy}/ seeds from the conformance vectors (vectors/*.json):
# every case's token, every file's policy document (as JSON, plus a YAML seed). Re-runnable:
# seeds are named by content hash, so running again adds nothing new.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
vectors="${1:-$here/../vectors}"
echo "==> seeding $here/corpus from $vectors/*.json"
mkdir -p "$here/corpus/token" "$here/corpus/policy"

node - "$vectors" "$here/corpus" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const [vectors, corpus] = process.argv.slice(2);
const put = (dir, text) => {
  const name = crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
  fs.writeFileSync(path.join(corpus, dir, name), text);
};
let tokens = 0, policies = 0;
for (const file of fs.readdirSync(vectors).filter((f) => f.endsWith(".json")).sort()) {
  const v = JSON.parse(fs.readFileSync(path.join(vectors, file), "utf8"));
  if (v.policy !== undefined) { put("policy", JSON.stringify(v.policy, null, 1)); policies++; }
  for (const c of v.cases ?? []) { if (typeof c.token === "string") { put("token", c.token); tokens++; } }
}
put("policy", [
  "security:",
  '  jwt_issuer: "https://idp.example.com"',
  "  jwt_access_token_expiration: 3600",
  "  jwt_audiences: [web, api, a2a, mcp]",
  "keys:",
  "  secret_env: JWT_SECRET",
  "algorithms: [HS256]",
  "clock_skew_seconds: 60",
  "",
].join("\n"));
console.log(`${tokens} token seeds, ${policies + 1} policy seeds (before dedup)`);
JS
echo "corpus/token: $(ls "$here/corpus/token" | wc -l) files, corpus/policy: $(ls "$here/corpus/policy" | wc -l) files"

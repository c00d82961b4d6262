#!/usr/bin/env bash
# The whole suite, twice over the store: on embedded PGlite and on the PostgreSQL server at
# TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Browser journeys run in both.
set -uo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# A landed migration is never edited (src/storage/migrate.ts refuses such a database at start-up).
node --import tsx scripts/check-migrations.ts || exit 1
# What the suite needs from the machine, made sure of here so the README's test command is the whole set-up:
# Debian's Chromium for the browser journeys, and the test database on the PostgreSQL server.
bash scripts/ensure-chromium.sh || exit 1
node --import tsx scripts/ensure-test-database.ts "$TEST_DATABASE_URL" || exit 1
mapfile -t files < <(find src web/e2e test -name '*.test.ts' 2>/dev/null | sort)
# Module boundaries and layers (.dependency-cruiser.cjs): a violation fails the run before any test.
npm run --silent check:deps || exit 1
# Lint and format (biome.jsonc): the tree passes them, or the run fails before any test.
npx biome check . || exit 1
# The type checker over the server, scripts, tests and the web app.
npm run --silent typecheck || exit 1
[ -f web/dist/index.html ] || npx vite build --config web/vite.config.ts --logLevel warn || exit 1
mkdir -p test-results
pass=0; fail=0; status=0
for engine in pglite postgres; do
  echo "## PCN_TEST_ENGINE=$engine"
  PCN_TEST_ENGINE=$engine node --import tsx --test --test-concurrency=3 "$@" "${files[@]}" | tee "test-results/$engine.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  pass=$((pass + $(sed -n 's/^# pass //p' "test-results/$engine.tap" | tail -1)))
  fail=$((fail + $(sed -n 's/^# fail //p' "test-results/$engine.tap" | tail -1)))
done
echo "both engines: $pass passed, $fail failed"
exit $status

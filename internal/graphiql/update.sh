#!/usr/bin/env bash
# Copies the pinned GraphiQL, React and ReactDOM builds (package.json and
# package-lock.json) into assets/, where go:embed puts them in the binary.
# Run it after changing a version, and commit assets/ with the lock file:
# neither building nor running Carlot needs Node.js.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp package.json package-lock.json "$work"/
npm ci --prefix "$work" --ignore-scripts --no-audit --no-fund >/dev/null
m="$work/node_modules"
cp "$m/graphiql/graphiql.min.js" "$m/graphiql/graphiql.min.css" assets/
cp "$m/react/umd/react.production.min.js" "$m/react-dom/umd/react-dom.production.min.js" assets/
cp "$m/graphiql/LICENSE" assets/LICENSE.graphiql
cp "$m/react/LICENSE" assets/LICENSE.react
cp "$m/react-dom/LICENSE" assets/LICENSE.react-dom
echo "assets/ now holds graphiql $(node -p "require('$m/graphiql/package.json').version"), react $(node -p "require('$m/react/package.json').version")"

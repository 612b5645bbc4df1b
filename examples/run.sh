#!/usr/bin/env bash
# Builds the examples against the SDK in the local Maven repository and runs each one (the bundled model, no server
# needed: the hybrid example falls back to it). Extra arguments go to Maven (e.g. -Dmaven.repo.local=...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
source ../scripts/java-env.sh
E=org.codehaus.mojo:exec-maven-plugin:3.5.0:exec
exec mvn -B -q "$@" package "$E@in-process-chat" "$E@hybrid" "$E@langchain4j"

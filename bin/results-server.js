#!/usr/bin/env node
import '../dist/server/cli/results-server.js';

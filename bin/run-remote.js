#!/usr/bin/env node
import '../dist/server/cli/run-remote.js';

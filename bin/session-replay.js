#!/usr/bin/env node
import '../dist/server/cli/session-replay.js';

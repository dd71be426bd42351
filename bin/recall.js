#!/usr/bin/env node
import '../dist/server/cli/recall.js';

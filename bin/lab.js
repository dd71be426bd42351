#!/usr/bin/env node
import '../dist/server/cli/lab.js';

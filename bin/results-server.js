#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('results-server');
await import('../dist/server/cli/results-server.js');

#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('run-remote');
await import('../dist/server/cli/run-remote.js');

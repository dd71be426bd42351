#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('lab');
await import('../dist/server/cli/lab.js');

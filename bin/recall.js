#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('recall');
await import('../dist/server/cli/recall.js');

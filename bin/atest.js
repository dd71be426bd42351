#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('atest');
await import('../dist/server/cli/atest.js');

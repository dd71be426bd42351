#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('session-replay');
await import('../dist/server/cli/session-replay.js');

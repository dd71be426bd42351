#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('autoserv');
await import('../dist/server/cli/autoserv.js');

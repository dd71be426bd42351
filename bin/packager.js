#!/usr/bin/env node
import { answerVersion } from './answer-version.js';

answerVersion('packager');
await import('../dist/server/cli/packager.js');

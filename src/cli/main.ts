#!/usr/bin/env node
console.log("ai-api-guard");

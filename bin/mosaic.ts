#!/usr/bin/env node
import { createMosaicApp } from '../lib/app';

// The CDK app (cdk.json "app"): config from the `mosaic` context, the stack, the Aspect and cdk-nag.
createMosaicApp();

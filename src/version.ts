/** The one version string: package.json's, read once. The OpenAPI document and the CapabilityStatement show it. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const PackageFile = z.object({ version: z.string().regex(/^\d+\.\d+\.\d+/) });

export const VERSION: string = PackageFile.parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))).version;

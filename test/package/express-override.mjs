// `node --import ./express-override.mjs`: registers express-loader.mjs for EXPRESS_MAIN (a file URL).
import { register } from 'node:module';

register('./express-loader.mjs', import.meta.url, { data: { target: process.env.EXPRESS_MAIN } });

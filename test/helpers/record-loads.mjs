// `node --import ./record-loads.mjs ...`: registers record-loads-hooks.mjs before anything else loads.
import {register} from 'node:module'

register('./record-loads-hooks.mjs', import.meta.url)

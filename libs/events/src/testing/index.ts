export { sampleInputs } from './samples.js';

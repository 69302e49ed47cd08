export { olderSampleInputs, sampleInputs } from './samples.js';

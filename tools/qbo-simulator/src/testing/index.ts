export { api, BASIC, type Connection, connect, query, REDIRECT_URI, type Target } from './connect.js';
export { type SimulatorProcess, startSimulatorProcess } from './process.js';
export { type Received, startReceiver } from './receiver.js';

export { type StoreHarness, storeContract } from './store-contract.js';

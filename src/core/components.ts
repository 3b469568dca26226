/**
 * The component factories of each role, in start order. Each part of Quartile
 * (collector, Ads Manager, pipeline, Control Room) adds its factory here; a factory
 * returns undefined when the role does not run it.
 */
import type { ComponentFactory } from './engine.ts';

export const COMPONENT_FACTORIES: readonly ComponentFactory[] = [];

// Package workflows holds atomicflow's Temporal workflows: onboarding, offboarding, bulk asset
// reassignment and reconciliation. Their contract (names, messages, inputs and results) is in
// package lifecycle; the calls they make to Atomicwork are the activities package's.
package workflows

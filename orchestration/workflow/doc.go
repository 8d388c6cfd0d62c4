// Package workflow is Gaffer's workflow scheduler: the seed's Big Data
// Orchestration scheduler, which Netflix open-sourced as Maestro. It
// reads Maestro's workflow definitions (JSON and the YAML DSL, see
// package definition), keeps every applied version, and runs instances
// durably on the platform's store: a step's state change and the
// transitions it sets off commit in one transaction, and only external
// work (a sleep's end) goes through the job queue.
//
// Anchors: Maestro (its definitions, statuses and step kinds) and
// Airflow (scheduling latency). The user guide is docs/workflow.md;
// bench/workflow will hold the comparisons.
package workflow

# Estimated cost cap: one job may not ask for more than this many core-seconds
# (the scheduler's estimate from its calibrated cost model).
package riskgrid.admission

max_core_seconds := 360000

deny contains msg if {
	input.job.estimated_core_seconds > max_core_seconds
	msg := sprintf("estimated_core_seconds: %d is more than one job may use (%d)", [round(input.job.estimated_core_seconds), max_core_seconds])
}

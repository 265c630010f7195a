# Paths per job: a bound per tenant on analysis.paths (the sandbox tenant is
# for trying things out; everyone else gets the default).
package riskgrid.admission

max_paths_per_job := {"default": 100000000, "sandbox": 1000000}

deny contains msg if {
	limit := object.get(max_paths_per_job, input.tenant, max_paths_per_job["default"])
	input.job.paths > limit
	msg := sprintf("paths: %d paths per job is more than tenant %s may run (%d)", [input.job.paths, input.tenant, limit])
}

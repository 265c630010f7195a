# Deadlines, when given, must be in the future: a job that is already late
# would only take capacity from jobs that can still make theirs.
package riskgrid.admission

deny contains msg if {
	is_number(input.job.deadline_unix_ms)
	input.job.deadline_unix_ms <= input.now_unix_ms
	msg := sprintf("deadline: %d is not in the future (now %d)", [input.job.deadline_unix_ms, input.now_unix_ms])
}

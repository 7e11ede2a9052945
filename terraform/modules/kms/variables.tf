variable "name" {
  description = "Name of the key alias (without the alias/ prefix)."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,200}$", var.name))
    error_message = "The alias name may contain letters, digits, /, _ and - only."
  }
}

variable "deletion_window_in_days" {
  description = "Days before a scheduled key deletion takes effect."
  type        = number
  default     = 30
  validation {
    condition     = contains(range(7, 31), var.deletion_window_in_days)
    error_message = "AWS accepts 7 to 30 days."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}

"""Marketing's files (qualification.yml, messages.yml), validated on load with errors that name the field."""

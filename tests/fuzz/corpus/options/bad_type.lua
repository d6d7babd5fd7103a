options = { users = "ten" }
task(1, function() end)

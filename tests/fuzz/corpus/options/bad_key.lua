options = { user = 1 }

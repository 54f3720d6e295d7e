print("amibridge")

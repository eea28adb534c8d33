print("aptestbed")

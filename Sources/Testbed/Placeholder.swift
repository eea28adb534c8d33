public enum TestbedPlaceholder {}

/// A failed communicator operation: which operation, and why, in MPI's words where MPI said it.
public struct MPIError: Error, CustomStringConvertible {
    /// The operation that failed, for example `MPI_Allreduce` or `MPI_Bcast`.
    public let operation: String

    /// MPI's error code, or `nil` when the error was found before calling MPI.
    public let code: Int32?

    /// What went wrong: MPI's error string (`MPI_Error_string`) or this package's own explanation.
    public let message: String

    /// Creates an error for `operation` with MPI's `code` (if any) and a `message`.
    public init(operation: String, code: Int32?, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    /// `"<operation> failed: <message>"`, followed by the MPI error code when there is one.
    public var description: String {
        let suffix = code.map { " (MPI error code \($0))" } ?? ""
        return "\(operation) failed: \(message)\(suffix)"
    }
}

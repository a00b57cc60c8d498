//! The syntax tree. The parser produces it; the runtime evaluates it. It
//! knows no commands: a command call is a name and spanned arguments.

use std::rc::Rc;

use crate::span::Span;
use crate::value::Value;

/// A script, a prompt entry or a `{ ... }` block.
#[derive(Debug, Clone)]
pub struct ScriptBlockAst {
    /// `param(...)` names, when the block declares them (optional support).
    pub params: Vec<ParamDecl>,
    /// The statements.
    pub statements: Vec<Statement>,
    /// The whole block.
    pub span: Span,
}

/// One `param(...)` entry: `[type]$Name = default`.
#[derive(Debug, Clone)]
pub struct ParamDecl {
    /// Variable name without `$`.
    pub name: String,
    /// Declared type, if any (`int`, `string`, ...).
    pub type_name: Option<String>,
    /// Default value.
    pub default: Option<Expr>,
    /// Span.
    pub span: Span,
}

/// A `{ ... }` statement block of a control-flow statement.
#[derive(Debug, Clone)]
pub struct Block {
    /// Statements.
    pub statements: Vec<Statement>,
    /// Span including the braces.
    pub span: Span,
}

/// A statement.
#[derive(Debug, Clone)]
pub enum Statement {
    /// A pipeline (which may be a single expression).
    Pipeline(Pipeline),
    /// `target op value`, e.g. `$x = Get-Foo`, `$h.Name = 'a'`, `$i += 1`,
    /// `$a, $b = 1, 2` (target is then an [`ExprKind::Array`] of variables).
    Assignment {
        /// What is assigned to.
        target: Expr,
        /// `=`, `+=`, ...
        op: AssignOp,
        /// The right side (usually a pipeline statement).
        value: Box<Statement>,
        /// Span.
        span: Span,
    },
    /// `if (...) { } elseif (...) { } else { }`.
    If {
        /// Condition and block, for `if` then each `elseif`.
        clauses: Vec<(Pipeline, Block)>,
        /// `else` block.
        else_block: Option<Block>,
        /// Span.
        span: Span,
    },
    /// `foreach ($item in $collection) { }`.
    Foreach {
        /// `:label` before the keyword.
        label: Option<String>,
        /// Loop variable name without `$`.
        variable: String,
        /// The collection.
        collection: Pipeline,
        /// Body.
        body: Block,
        /// Span.
        span: Span,
    },
    /// `for (init; cond; step) { }`.
    For {
        /// Label.
        label: Option<String>,
        /// Initializer.
        init: Option<Box<Statement>>,
        /// Condition.
        condition: Option<Pipeline>,
        /// Step.
        step: Option<Box<Statement>>,
        /// Body.
        body: Block,
        /// Span.
        span: Span,
    },
    /// `while (cond) { }`.
    While {
        /// Label.
        label: Option<String>,
        /// Condition.
        condition: Pipeline,
        /// Body.
        body: Block,
        /// Span.
        span: Span,
    },
    /// `do { } while (cond)` / `do { } until (cond)`.
    DoLoop {
        /// Label.
        label: Option<String>,
        /// Body.
        body: Block,
        /// Condition.
        condition: Pipeline,
        /// `until` rather than `while`.
        until: bool,
        /// Span.
        span: Span,
    },
    /// `try { } catch [T] { } finally { }`.
    Try {
        /// The guarded block.
        body: Block,
        /// Catch clauses in order.
        catches: Vec<CatchClause>,
        /// `finally`.
        finally: Option<Block>,
        /// Span.
        span: Span,
    },
    /// `function Name { ... }` / `function Name($a) { ... }`.
    Function {
        /// Name.
        name: String,
        /// Body (its `params` hold the declared parameters).
        body: Rc<ScriptBlockAst>,
        /// Span.
        span: Span,
    },
    /// `throw [value]`.
    Throw {
        /// The value.
        value: Option<Pipeline>,
        /// Span.
        span: Span,
    },
    /// `exit [code]`.
    Exit {
        /// The code.
        value: Option<Pipeline>,
        /// Span.
        span: Span,
    },
    /// `return [value]`.
    Return {
        /// The value.
        value: Option<Pipeline>,
        /// Span.
        span: Span,
    },
    /// `break [label]`.
    Break {
        /// Label.
        label: Option<String>,
        /// Span.
        span: Span,
    },
    /// `continue [label]`.
    Continue {
        /// Label.
        label: Option<String>,
        /// Span.
        span: Span,
    },
}

/// One `catch` clause.
#[derive(Debug, Clone)]
pub struct CatchClause {
    /// Exception type names (`[System.Exception]`); empty catches everything.
    pub types: Vec<String>,
    /// Body.
    pub body: Block,
    /// Span.
    pub span: Span,
}

/// Assignment operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// `/=`
    Div,
    /// `%=`
    Rem,
}

/// Commands joined by `|`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Elements; only the first may be an expression.
    pub elements: Vec<PipelineElement>,
    /// Span.
    pub span: Span,
}

/// A pipeline element.
#[derive(Debug, Clone)]
pub enum PipelineElement {
    /// An expression (first element only).
    Expression(Expr),
    /// A command call.
    Command(CommandCall),
}

/// How a command is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationOperator {
    /// Plain `Name args`.
    None,
    /// `& name args`.
    Call,
    /// `. name args`.
    DotSource,
}

/// A command call: `Disconnect-DPMServer -CN DPM01 -WhatIf`.
#[derive(Debug, Clone)]
pub struct CommandCall {
    /// `&`, `.` or nothing.
    pub invocation: InvocationOperator,
    /// The command's name as typed (bareword) or an expression (`& $sb`).
    pub name: CommandName,
    /// Arguments in order.
    pub args: Vec<CommandArg>,
    /// Redirections (`2>&1`, `> $null`, `*> file`).
    pub redirections: Vec<Redirection>,
    /// Span of the whole element (name and arguments).
    pub span: Span,
}

/// A command name.
#[derive(Debug, Clone)]
pub enum CommandName {
    /// A bareword name as typed.
    Bare {
        /// Text.
        name: String,
        /// Span.
        span: Span,
    },
    /// An expression after `&` or `.` (a script block, a string).
    Expr(Expr),
}

/// A command argument, as the parser sees it: whether a `-Name` takes the
/// next value is the binder's decision, not the parser's.
#[derive(Debug, Clone)]
pub enum CommandArg {
    /// `-Name` or `-Name:value`.
    Parameter {
        /// Name as typed, without the dash (`CN`, `whatif`, `?`).
        name: String,
        /// The argument after a colon (`-WhatIf:$false`).
        colon_value: Option<Expr>,
        /// Span of the `-Name` token (what binding errors underline).
        name_span: Span,
        /// Span including the colon value.
        span: Span,
    },
    /// A value: positional, or the value that follows a `-Name`.
    Value(Expr),
    /// `@name`: splat a hashtable (named) or array (positional).
    Splat {
        /// Variable name.
        variable: String,
        /// Span.
        span: Span,
    },
}

/// A redirection.
#[derive(Debug, Clone)]
pub struct Redirection {
    /// Source stream: 1 success, 2 error, 3 warning, 4 verbose, 5 debug,
    /// 6 information, 0 all (`*`).
    pub from: u8,
    /// Target: another stream (`2>&1`) or a file expression (`> $null`).
    pub to: RedirectionTarget,
    /// `>>` append.
    pub append: bool,
    /// Span.
    pub span: Span,
}

/// Where a redirection goes.
#[derive(Debug, Clone)]
pub enum RedirectionTarget {
    /// A stream number (`&1`).
    Stream(u8),
    /// A file path expression (`$null` discards).
    File(Expr),
}

/// An expression with its span.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression kinds.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A constant: `$true`, `$false`, `$null` and folded literals.
    Constant(Value),
    /// A number literal with its typed text (`1KB`, `007`), which a command
    /// argument keeps when bound to a string parameter.
    Number {
        /// The value (`Int`, `Long` or `Double`).
        value: Value,
        /// The text as typed.
        text: String,
    },
    /// A string that does not expand: single-quoted, or a bareword argument
    /// without `$`.
    String(String),
    /// A double-quoted string (or bareword) with expansions.
    Expandable(Vec<StringPart>),
    /// `$name`, `${name}`, `$global:name`, `$env:PATH`.
    Variable(VariableRef),
    /// `a, b, c` (the comma operator) and unary `,a`.
    Array(Vec<Expr>),
    /// `@( statements )`: always an array.
    ArraySubExpr(Vec<Statement>),
    /// `$( statements )`.
    SubExpr(Vec<Statement>),
    /// `( pipeline-or-assignment )`.
    Paren(Box<Statement>),
    /// `@{ key = value; ... }` (`ordered` for `[ordered]@{}`).
    Hashtable {
        /// Entries in order.
        entries: Vec<(Expr, Statement)>,
    },
    /// `{ ... }`.
    ScriptBlock(Rc<ScriptBlockAst>),
    /// `target.Name`, `target::Name` (static), `target.$expr`.
    Member {
        /// Target.
        target: Box<Expr>,
        /// Member name.
        member: MemberName,
        /// `::`.
        is_static: bool,
    },
    /// `target.Name(args)`, `[T]::Name(args)`.
    MethodCall {
        /// Target.
        target: Box<Expr>,
        /// Method name.
        member: MemberName,
        /// Arguments.
        args: Vec<Expr>,
        /// `::`.
        is_static: bool,
    },
    /// `target[index]`.
    Index {
        /// Target.
        target: Box<Expr>,
        /// Index expression (may be an array or a range).
        index: Box<Expr>,
    },
    /// Unary operator.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// Binary operator.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left.
        lhs: Box<Expr>,
        /// Right.
        rhs: Box<Expr>,
    },
    /// `[type]operand` cast (`[int]'5'`, `[pscustomobject]@{}`, `[ordered]@{}`).
    Convert {
        /// Type name as written inside the brackets.
        type_name: String,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `[type]` alone (for static members: `[DateTime]::Now`).
    TypeLiteral(String),
}

/// A part of an expandable string.
#[derive(Debug, Clone)]
pub enum StringPart {
    /// Literal text (escapes already processed).
    Literal(String),
    /// `$name` / `${name}`.
    Variable(VariableRef),
    /// `$( ... )`.
    SubExpr(Vec<Statement>),
}

/// A variable reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableRef {
    /// Name without `$` and without the scope/drive prefix.
    pub name: String,
    /// `global`, `script`, `local`, `env`, ... if given.
    pub scope: Option<String>,
}

/// A member name.
#[derive(Debug, Clone)]
pub enum MemberName {
    /// A plain identifier (or quoted string).
    Name(String),
    /// `.$expr` / `.($expr)`.
    Dynamic(Box<Expr>),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-not` / `!`
    Not,
    /// `-x`
    Negate,
    /// `+x`
    Plus,
    /// `,x` (one-element array)
    Comma,
    /// `++$x`
    PreIncrement,
    /// `--$x`
    PreDecrement,
    /// `$x++`
    PostIncrement,
    /// `$x--`
    PostDecrement,
    /// `-join x`
    Join,
    /// `-split x`
    Split,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `..`
    Range,
    /// `-f`
    Format,
    /// `-and`
    And,
    /// `-or`
    Or,
    /// `-xor`
    Xor,
    /// `-band`
    BitAnd,
    /// `-bor`
    BitOr,
    /// A comparison (`-eq`, `-ceq`, `-like`, `-in`, ...).
    Compare(CompareOp, CaseMode),
    /// `-is`
    Is,
    /// `-isnot`
    IsNot,
    /// `-as`
    As,
}

/// Comparison and string operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    NotLike,
    Match,
    NotMatch,
    Contains,
    NotContains,
    In,
    NotIn,
    Replace,
    Split,
    Join,
}

/// `-eq` / `-ieq` (insensitive) versus `-ceq` (sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseMode {
    /// Default and `i` prefix.
    Insensitive,
    /// `c` prefix.
    Sensitive,
}

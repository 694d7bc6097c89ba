/** The type token prefix of this program's components (`aksvault:index:AksCluster`, ...). */
export const TYPE_PREFIX = "aksvault:index";
